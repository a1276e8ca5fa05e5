#!/bin/bash
# Scores a folder of images as a Slurm job array of 4 tasks: each task gets SLURM_ARRAY_TASK_ID (and Slurm sets
# SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT), and `--shard auto` makes it score its part of the folder by a
# stable hash of each file's path. A requeued task (`--requeue`) continues its partial output with `--resume`.
#   sbatch deploy/slurm-array.sh /shared/images /shared/model.onnx /shared/results
# When the array has finished, join the parts (for example as a dependent job):
#   sbatch --dependency=afterok:<array job id> --wrap "mlpipeline merge --out /shared/results/predictions.csv /shared/results/predictions-*.csv"
#SBATCH --job-name=mlpipeline-score
#SBATCH --array=0-3
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --requeue
set -euo pipefail
images=${1:?images folder}
model=${2:?ONNX model}
results=${3:?results folder}
mkdir -p "$results"
mlpipeline score --input "$images" --recursive --model "$model" --probabilities --shard auto --resume --output "$results/predictions-${SLURM_ARRAY_TASK_ID}.csv"
