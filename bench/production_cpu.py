"""CPU per request in process, against a baseline revision in the same run: see
bench/load/cpu.py.

python -m bench.production_cpu [--baseline REV] [--rounds 4] [--requests 100] [--quick]
"""

from bench.load.cpu import main

if __name__ == "__main__":
    main()
