# Account-level pieces shared by the whole stage: the KMS key, the JWT signing key in SSM, and
# API Gateway's CloudWatch Logs role.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition
}

# One customer-managed key ($1/month) encrypts the tables (and their stream), the JWT
# parameter, the functions' environment and every log group.
resource "aws_kms_key" "main" {
  description             = "${local.prefix}: DynamoDB tables, JWT secret, Lambda environment, logs"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.main.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's "*" resource is the key itself; the account statement only delegates to IAM, where each function gets kms:Decrypt on this key via one service.
  #checkov:skip=CKV_AWS_111:As above: the account-root statement is the default key policy that lets IAM policies grant use of this key.
  #checkov:skip=CKV_AWS_356:As above: in a key policy "*" means this key only.
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsOfThisAccount"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

# The JWT signing key: generated at apply time, written once per jwt_secret_version, read by
# login and $connect at run time through CHATSTACK_JWT_SECRET_PARAM. Ephemeral and write-only,
# so it is in no variable, no output, no plan and no state file.
ephemeral "random_password" "jwt_secret" {
  length  = 64
  special = false
}

resource "aws_ssm_parameter" "jwt_secret" {
  name             = "/${var.name}/${var.stage}/jwt-secret"
  description      = "HS256 signing key of ${local.prefix} access tokens"
  type             = "SecureString"
  key_id           = aws_kms_key.main.arn
  value_wo         = ephemeral.random_password.jwt_secret.result
  value_wo_version = var.jwt_secret_version
}

# Stage access and execution logs need API Gateway's CloudWatch role: one per account and region.
resource "aws_iam_role" "apigateway_logs" {
  count              = var.manage_api_gateway_account ? 1 : 0
  name               = "${local.prefix}-apigateway-logs-${local.region}"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
}

data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy_attachment" "apigateway_logs" {
  count      = var.manage_api_gateway_account ? 1 : 0
  role       = aws_iam_role.apigateway_logs[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  count               = var.manage_api_gateway_account ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.apigateway_logs[0].arn
  depends_on          = [aws_iam_role_policy_attachment.apigateway_logs]
}
