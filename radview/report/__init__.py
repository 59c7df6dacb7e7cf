"""Report service: the draft from findings, the Fleischner recommendation, key images, the PDF."""
