from jobctl.cli.main import run

run()
