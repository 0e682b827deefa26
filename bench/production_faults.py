"""Faults under load on the production profile (S3 stopped, Redis restarted, a gunicorn worker
killed, PostgreSQL restarted): see bench/load/faults.py.

python -m bench.production_faults [--quick] [--users 30] [--s3-outage 30] [--faults s3,redis,…]
"""

from bench.load.faults import main

if __name__ == "__main__":
    main()
