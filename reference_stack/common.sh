# Shared by deploy.sh and cleanup.sh (sourced, not run): paths, arguments and the checks of
# what they need, each failing with a message that says how to get it.
#
# Portable to macOS: bash 3.2 (no empty "${array[@]}" under set -u, no associative arrays, no
# ${var,,}) and BSD userland (mktemp with a template only, no sed -i, readlink -f or date -d);
# tests/terraform/test_deploy_scripts.py checks for these.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
tf_dir="$here/terraform"
python="${CHATSTACK_PYTHON:-$root/.venv/bin/python}"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"
stage_dir="${CHATSTACK_STAGE_DIR:-$root/.stage}" # where deploy.sh writes aws-STAGE.json
package="${CHATSTACK_PACKAGE:-$root/build/lambda.zip}" # the Lambda package deploy.sh builds
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE="${CHECKPOINT_DISABLE:-1}" # no version check against HashiCorp

fail() {
  echo "error: $*" >&2
  exit 1
}

check_stage() {
  case "$1" in
    dev | staging | prod) ;;
    *) fail "stage must be dev, staging or prod, not '$1'" ;;
  esac
}

check_python() {
  [[ -x "$python" ]] || fail "no project Python at $python: run 'make setup' first (or set CHATSTACK_PYTHON)"
}

check_terraform() {
  command -v terraform >/dev/null 2>&1 ||
    fail "terraform is not on PATH: install Terraform >= 1.11 (https://developer.hashicorp.com/terraform/install)"
  local version
  version="$(terraform version -json 2>/dev/null | "$python" -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])' 2>/dev/null || true)"
  [[ -n "$version" ]] || fail "'terraform version -json' did not answer: is $(command -v terraform) Terraform?"
  "$python" - "$version" <<'PY' || fail "Terraform $version is too old: 1.11 or newer is needed (write-only arguments)"
import sys
major, minor = (int(part) for part in sys.argv[1].split(".")[:2])
sys.exit(0 if (major, minor) >= (1, 11) else 1)
PY
}

check_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    fail "node and npm are not on PATH: install Node 20 or newer (https://nodejs.org), needed to build the web app"
  local version
  version="$(node --version 2>/dev/null || true)"
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null ||
    fail "Node ${version:-of unknown version} is too old: the web app needs Node 20 or newer"
}

# API Gateway's CloudWatch Logs role (one per account and region) is set: stages log through it.
api_gateway_logs_role() {
  "$python" - "$region" <<'PY' 2>/dev/null || echo unknown
import sys, boto3
try:
    account = boto3.client("apigateway", region_name=sys.argv[1]).get_account()
except Exception:  # no permission to look: let Terraform say what is missing, if anything
    print("unknown")
else:
    print(account.get("cloudwatchRoleArn", ""))
PY
}

check_aws_credentials() {
  local account
  if command -v aws >/dev/null 2>&1; then
    account="$(aws sts get-caller-identity --query Account --output text 2>/dev/null || true)"
  else
    account="$("$python" -c 'import boto3; print(boto3.client("sts").get_caller_identity()["Account"])' 2>/dev/null || true)"
  fi
  [[ -n "$account" && "$account" != "None" ]] ||
    fail "no usable AWS credentials: 'aws sts get-caller-identity' must succeed (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
  echo "AWS account $account, region $region"
}

terraform_init() {
  terraform -chdir="${1:-$tf_dir}" init -input=false >/dev/null
}
