from forecaster.cli import main

main()
