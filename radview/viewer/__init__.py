"""The viewer's state without Qt: what is shown where (radview.viewer.model), how one plane maps
screen mm to voxels and patient mm (radview.viewer.plane_view), and the mouse tools. The widgets in
radview.gui draw this state and listen to its events."""
