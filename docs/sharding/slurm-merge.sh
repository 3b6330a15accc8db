#!/bin/bash
# Merges the shard files of slurm-shards.sh into the result files (see there how to submit).
#SBATCH --job-name=nn-lab-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --time=00:20:00
#SBATCH --output=slurm-merge.out
set -euo pipefail
npm run experiment -- merge runs/seeds5/shards --out runs/seeds5/merged
