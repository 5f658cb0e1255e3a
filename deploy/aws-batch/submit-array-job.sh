#!/bin/sh
# Submits one AWS Batch array job over a date range: one child per date.
# AWS Batch sets AWS_BATCH_JOB_ARRAY_INDEX (0..size-1) in each child;
# the job definition's `--index auto` turns it into the N-th date.
# Usage: submit-array-job.sh FROM TO JOB_QUEUE
set -eu
from="$1"
to="$2"
queue="$3"
days=$(( ( $(date -u -d "$to" +%s) - $(date -u -d "$from" +%s) ) / 86400 + 1 ))
aws batch submit-job \
  --job-name "impressions-$from-$to" \
  --job-queue "$queue" \
  --job-definition impressions-materialize \
  --array-properties "size=$days" \
  --parameters "from=$from,to=$to"
