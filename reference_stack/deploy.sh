#!/usr/bin/env bash
# Deploy chatstack to AWS: build the Lambda package, terraform init and apply (one workspace per
# stage), upload the built front end, print the stage's URLs and write them to
# .stage/aws-STAGE.json (the `terraform output -json` that `chatstack conform --stage` reads).
#
#   reference_stack/deploy.sh [dev|staging|prod]     (default dev)
#
# Environment: AWS credentials as for the AWS CLI; AWS_REGION (default us-east-1);
# CHATSTACK_ARCH (arm64 or x86_64, default arm64); TF_VAR_* for the other variables.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stage="${1:-dev}"
arch="${CHATSTACK_ARCH:-arm64}"
check_stage "$stage"
check_python
check_terraform
check_aws_credentials

echo "== building the Lambda package ($arch)"
(cd "$root" && "$python" -m reference_stack.package --arch "$arch" --out "$root/build/lambda.zip")

echo "== terraform apply (workspace $stage)"
terraform_init
terraform -chdir="$tf_dir" workspace select -or-create "$stage" >/dev/null
terraform -chdir="$tf_dir" apply -input=false -auto-approve \
  -var "stage=$stage" -var "region=$region" \
  -var "lambda_architecture=$arch" -var "lambda_zip=$root/build/lambda.zip"

mkdir -p "$root/.stage"
stage_file="$root/.stage/aws-$stage.json"
terraform -chdir="$tf_dir" output -json >"$stage_file"

if [[ -d "$root/frontend/dist" ]]; then
  echo "== uploading frontend/dist"
  (cd "$root" && "$python" -m reference_stack.web_upload \
    --bucket "$(terraform -chdir="$tf_dir" output -raw web_bucket)" --region "$region" "$root/frontend/dist")
else
  echo "== no frontend/dist: build it (cd frontend && npm ci && npm run build) and deploy again"
fi

cat <<EOT

REST API:      $(terraform -chdir="$tf_dir" output -raw rest_url)
WebSocket API: $(terraform -chdir="$tf_dir" output -raw ws_url)
Web app:       $(terraform -chdir="$tf_dir" output -raw web_url)   (CloudFront may take a few minutes)
Stage file:    $stage_file

Check it:  .venv/bin/chatstack conform --stage $stage_file
Remove it: reference_stack/cleanup.sh $stage
EOT
