from slocompile.cli import main

main()
