#!/bin/bash
# The lecture suite over 5 seeds in 8 shards on Slurm: an array of 8 tasks, each running its
# shard (`--shard auto` reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and
# SLURM_ARRAY_TASK_MIN, which Slurm sets for every array task), then slurm-merge.sh once all
# have succeeded. Submit both from the repository's folder (on a shared file system, after
# `npm ci`):
#
#   sbatch --dependency=afterok:$(sbatch --parsable docs/sharding/slurm-shards.sh) docs/sharding/slurm-merge.sh
#
# test/sharding-examples.test.ts runs the command lines below with the index variables set.
#SBATCH --job-name=nn-lab-shards
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=3G
#SBATCH --time=02:00:00
#SBATCH --output=slurm-shard-%a.out
set -euo pipefail
npm run experiment -- all --seeds 5 --shard auto --out runs/seeds5
