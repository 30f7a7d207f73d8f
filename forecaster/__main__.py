"""`python -m forecaster` and the `forecaster` script.

Ctrl-C is answered from this first line on (`interrupts`), before the command line's
libraries load; `cli.main` takes over from there.
"""

from forecaster.interrupts import install_exit_now


def run() -> None:
    install_exit_now()
    from forecaster.cli import main

    main()


if __name__ == "__main__":
    run()
