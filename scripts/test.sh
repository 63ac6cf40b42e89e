#!/usr/bin/env bash
# Installs everything the tests need (second solvers from Debian when possible, the package
# with its test extra) and runs lint and the test suite. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

# CBC and GLPK let the suite check HiGHS' optima with a second solver.
if ! command -v cbc >/dev/null || ! command -v glpsol >/dev/null; then
  if command -v apt-get >/dev/null; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="$(command -v sudo || true)"; fi
    if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
      $SUDO apt-get update -qq || echo "apt-get update failed: second-solver tests will be skipped"
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq coinor-cbc glpk-utils >/dev/null \
        || echo "could not install coinor-cbc/glpk-utils: second-solver tests will be skipped"
    fi
  fi
fi

# Ipopt (solver "cyipopt") for the NLP encodings and smooth activations: cyipopt builds against
# Debian's Ipopt; optional, its tests skip when this fails.
if ! "$PYTHON" -c "import cyipopt" 2>/dev/null && command -v apt-get >/dev/null; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="$(command -v sudo || true)"; fi
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq coinor-libipopt-dev liblapack-dev \
        libblas-dev libmumps-seq-dev gfortran pkg-config >/dev/null \
      && "$PYTHON" -m pip install -q --disable-pip-version-check cyipopt; } \
      || echo "could not install Ipopt/cyipopt: the Ipopt tests will be skipped"
  fi
fi

# Commercial solvers with their free size-limited licences (Gurobi's restricted, CPLEX's and
# Xpress' community editions) for the solver matrix; optional, their tests skip without them.
"$PYTHON" -m pip install -q --disable-pip-version-check gurobipy cplex xpress \
  || echo "could not install gurobipy/cplex/xpress: the commercial-solver tests will be skipped"

"$PYTHON" -m pip install -q --disable-pip-version-check -e ".[test]"
"$PYTHON" -m ruff check .
"$PYTHON" -m pytest -q "$@"
