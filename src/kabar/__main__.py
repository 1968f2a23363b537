from kabar.cli.main import main

main()
