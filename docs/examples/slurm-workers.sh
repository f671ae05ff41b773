#!/usr/bin/env bash
# sgdlab workers as a Slurm job array: each array task is one machine's `sgdlab worker`, claiming
# trials (then measurements) of the studies in a shared PostgreSQL until none is left.
# Documented example (not run by the tests). Register the study once first, from anywhere:
#   SGDLAB_DB=postgres://sgdlab@db.lab.example/sgdlab?sslmode=require \
#     npx sgdlab run study.yaml --workers 0
# then:  sbatch docs/examples/slurm-workers.sh
#SBATCH --job-name=sgdlab-workers
#SBATCH --array=0-15              # 16 machines (array tasks)
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=8         # one worker process per core below
#SBATCH --mem=16G
#SBATCH --time=24:00:00
#SBATCH --signal=B:TERM@120       # SIGTERM two minutes before the limit: the worker stops cleanly
set -euo pipefail
cd "${SGDLAB_HOME:-$HOME/sgdlab}"  # a clone where `npm run setup` has been run once
# The password comes from ~/.pgpass (mode 600) or PGPASSWORD, never from the URL in a script:
#   db.lab.example:5432:sgdlab:sgdlab:PASSWORD
export SGDLAB_DB="postgres://sgdlab@db.lab.example:5432/sgdlab?sslmode=require"
# Checkpoints go into PostgreSQL by default; with a shared file system, --artifacts /shared/sgdlab
# keeps them there instead (every node must see the same path).
exec node bin/sgdlab.js worker --workers "${SLURM_CPUS_PER_TASK}" --lease 300 --heartbeat 60 "$@"
