"""`python -m radview` runs the command line."""

from radview.cli import main

raise SystemExit(main())
