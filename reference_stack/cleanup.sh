#!/usr/bin/env bash
# Remove a deployed stage: every resource of its Terraform workspace, the web bucket's files
# included. The KMS key is only scheduled for deletion (7 days, AWS's minimum).
#
#   reference_stack/cleanup.sh [dev|staging|prod] [--yes]
#
# --yes skips Terraform's confirmation. A prod stage's tables have deletion protection, which
# is turned off first (after the confirmation).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stage="dev"
approve="" # a plain word, not an array: bash 3.2 (macOS) calls an empty "${array[@]}" unbound
for arg in "$@"; do
  case "$arg" in
    --yes) approve="-auto-approve" ;;
    -*) fail "unknown option $arg (usage: cleanup.sh [dev|staging|prod] [--yes])" ;;
    *) stage="$arg" ;;
  esac
done
check_stage "$stage"
check_python
check_terraform
check_aws_credentials

terraform_init
terraform -chdir="$tf_dir" workspace select "$stage" >/dev/null 2>&1 ||
  fail "no Terraform workspace '$stage' in $tf_dir: nothing deployed from this checkout"

# Destroying evaluates the whole configuration, package hash included: any zip will do.
if [[ ! -f "$package" ]]; then
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/chatstack-cleanup.XXXXXX")" # BSD and GNU mktemp alike
  trap 'rm -rf "$scratch"' EXIT
  package="$scratch/lambda.zip"
  "$python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").close()' "$package"
fi
vars=(-var "stage=$stage" -var "region=$region" -var "lambda_zip=$package")

if [[ "$stage" == prod ]]; then
  echo "== turning off the prod tables' deletion protection"
  terraform -chdir="$tf_dir" apply -input=false $approve "${vars[@]}" \
    -var deletion_protection=false -target=aws_dynamodb_table.this
fi

echo "== terraform destroy (workspace $stage)"
terraform -chdir="$tf_dir" destroy -input=false $approve "${vars[@]}"
rm -f "$stage_dir/aws-$stage.json"
echo "Stage $stage removed."
