"""The production profile under load (Locust behind nginx): see bench/load/run.py.

python -m bench.production_load [--quick] [--users 200] [--documents N] [--fraction 0.2]
"""

from bench.load.run import main

if __name__ == "__main__":
    main()
