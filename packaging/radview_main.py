"""Entry point of the packaged application (PyInstaller runs this file)."""

import multiprocessing
import sys

if __name__ == "__main__":
    # The folder scan's worker processes are spawned: in a frozen app they start this same
    # executable, and freeze_support() turns them into workers instead of new windows.
    multiprocessing.freeze_support()
    from radview.cli import main

    sys.exit(main())
