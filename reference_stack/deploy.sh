#!/usr/bin/env bash
# Deploy chatstack to AWS: build the Lambda package and the web app, terraform init and apply
# (one workspace per stage), upload the web app, print the stage's URLs and write them to
# .stage/aws-STAGE.json (the `terraform output -json` that `chatstack conform --stage` reads).
#
#   reference_stack/deploy.sh [dev|staging|prod] [--setup-account]     (default dev)
#
# --setup-account sets API Gateway's CloudWatch Logs role, once per account and region
# (terraform/account/, a state of its own: no stage's destroy takes it away). Without it, the
# deployment stops when the account has no such role, since every stage logs through it.
#
# Environment: AWS credentials as for the AWS CLI; AWS_REGION (default us-east-1);
# CHATSTACK_ARCH (arm64 or x86_64, default arm64); TF_VAR_* for the other variables.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stage="dev"
setup_account=""
for arg in "$@"; do
  case "$arg" in
    --setup-account) setup_account=yes ;;
    -*) fail "unknown option $arg (usage: deploy.sh [dev|staging|prod] [--setup-account])" ;;
    *) stage="$arg" ;;
  esac
done
arch="${CHATSTACK_ARCH:-arm64}"
check_stage "$stage"
check_python
check_terraform
check_node
check_aws_credentials

if [[ -n "$setup_account" ]]; then
  echo "== API Gateway's CloudWatch Logs role for $region (terraform/account, workspace $region)"
  terraform_init "$tf_dir/account"
  terraform -chdir="$tf_dir/account" workspace select -or-create "$region" >/dev/null
  terraform -chdir="$tf_dir/account" apply -input=false -auto-approve -var "region=$region"
elif [[ -z "$(api_gateway_logs_role)" ]]; then
  fail "API Gateway has no CloudWatch Logs role in this account and region ($region), and every stage's logs need one. It is one setting per account and region: set it once with 'reference_stack/deploy.sh $stage --setup-account' (or in the console, API Gateway > Settings)."
fi

echo "== building the Lambda package ($arch)"
(cd "$root" && "$python" -m reference_stack.package --arch "$arch" --out "$package")
echo "== building the web app (frontend/dist)"
(cd "$root/frontend" && npm ci --no-audit --no-fund && npm run build)

echo "== terraform apply (workspace $stage)"
terraform_init
terraform -chdir="$tf_dir" workspace select -or-create "$stage" >/dev/null
terraform -chdir="$tf_dir" apply -input=false -auto-approve \
  -var "stage=$stage" -var "region=$region" \
  -var "lambda_architecture=$arch" -var "lambda_zip=$package"

mkdir -p "$stage_dir"
stage_file="$stage_dir/aws-$stage.json"
terraform -chdir="$tf_dir" output -json >"$stage_file"

echo "== uploading frontend/dist"
(cd "$root" && "$python" -m reference_stack.web_upload \
  --bucket "$(terraform -chdir="$tf_dir" output -raw web_bucket)" --region "$region" "$root/frontend/dist")

cat <<EOT

REST API:      $(terraform -chdir="$tf_dir" output -raw rest_url)
WebSocket API: $(terraform -chdir="$tf_dir" output -raw ws_url)
Web app:       $(terraform -chdir="$tf_dir" output -raw web_url)   (CloudFront may take a few minutes)
Stage file:    $stage_file

Check it:  .venv/bin/chatstack conform --stage $stage_file --jwt-secret-param /chatstack/$stage/jwt-secret
Load it:   .venv/bin/locust -f loadtests/locustfile.py --headless -u 100 -r 10 -t 2m --stage-file $stage_file
Remove it: reference_stack/cleanup.sh $stage
EOT
