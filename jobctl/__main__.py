from jobctl.cli.entry import run

run()
