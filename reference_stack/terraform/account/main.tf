# API Gateway's CloudWatch Logs role: ONE setting per account and region, which every stage's
# access and execution logs need. Applied once, on its own (`reference_stack/deploy.sh
# --setup-account`), so destroying a stage never takes it away from the others. Skip it when
# something else in the account already sets the role (deploy.sh checks for one).
terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100.0, < 7.0.0"
    }
  }
}

variable "region" {
  description = "The region whose API Gateway account setting this sets."
  type        = string
  default     = "us-east-1"
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "chatstack"
      ManagedBy = "terraform"
    }
  }
}

data "aws_partition" "current" {}

data "aws_service_principal" "apigateway" {
  service_name = "apigateway"
}

data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [data.aws_service_principal.apigateway.name]
    }
  }
}

resource "aws_iam_role" "apigateway_logs" {
  name               = "chatstack-apigateway-cloudwatch-${var.region}"
  description        = "API Gateway writes the stages' access and execution logs to CloudWatch Logs (account-wide setting of ${var.region})"
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
}

resource "aws_iam_role_policy_attachment" "apigateway_logs" {
  role       = aws_iam_role.apigateway_logs.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

resource "aws_api_gateway_account" "this" {
  cloudwatch_role_arn = aws_iam_role.apigateway_logs.arn
  depends_on          = [aws_iam_role_policy_attachment.apigateway_logs]
}

output "cloudwatch_role_arn" {
  description = "The role API Gateway now uses in this account and region."
  value       = aws_api_gateway_account.this.cloudwatch_role_arn
}
