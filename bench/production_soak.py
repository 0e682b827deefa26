"""Soak of the production profile (memory of every process, PostgreSQL connections, outbox lag,
errors over time): see bench/load/soak.py.

python -m bench.production_soak [--quick] [--minutes 30] [--users 50]
"""

from bench.load.soak import main

if __name__ == "__main__":
    main()
