# One function per entry of stack.json, all from the same package, each with its own role
# granting exactly what stack.json lists for it.
#
# Runtime python3.12: the package is built for it (reference_stack/package.py). Architecture
# arm64 by default: Graviton costs 20 % less per GB-second than x86_64, and every dependency,
# bcrypt included, has an aarch64 wheel. Memory and timeout come from stack.json:
# - signup and login, 1024 MB / 10 s: a bcrypt hash at cost 12 is pure CPU (about 0.3 s of one
#   full core), and Lambda gives CPU in proportion to memory (1 vCPU at 1769 MB), so 1024 MB
#   keeps a login near half a second without paying for idle memory;
# - the WebSocket routes, 256 MB / 10 s (5 s for $default): one to three DynamoDB calls each;
#   API Gateway gives up on an integration after 29 s anyway;
# - the broadcaster, 512 MB / 60 s: a batch of up to 100 stream records, each posted through
#   @connections to every member of its room, one HTTPS call per member;
# - the fan-out function, 512 MB / 60 s: one shard (up to settings.shard_size members) of a
#   large room's message, invoked asynchronously by the broadcaster.

locals {
  # The value of every CHATSTACK_* variable a function may be given; each function gets exactly
  # the names its stack.json "env" lists (an unknown name fails the plan).
  env_values = merge(
    { for key, table in local.tables : table.env => aws_dynamodb_table.this[key].name },
    {
      CHATSTACK_JWT_SECRET_PARAM = aws_ssm_parameter.jwt_secret.name
      # The key's version: bumping var.jwt_secret_version rewrites the parameter and then
      # (this reference orders it after) changes the readers' configuration, so Lambda runs
      # their next invocation in new containers, which read the new key.
      CHATSTACK_JWT_SECRET_VERSION     = tostring(aws_ssm_parameter.jwt_secret.value_wo_version)
      CHATSTACK_MANAGEMENT_URL         = "https://${aws_apigatewayv2_api.ws.id}.execute-api.${local.region}.${local.dns_suffix}/${var.stage}"
      CHATSTACK_CORS_ORIGIN            = local.cors_origin
      CHATSTACK_BCRYPT_ROUNDS          = tostring(var.settings.bcrypt_rounds)
      CHATSTACK_TOKEN_TTL_SECONDS      = tostring(var.settings.token_ttl_seconds)
      CHATSTACK_CONNECTION_TTL_SECONDS = tostring(var.settings.connection_ttl_seconds)
      CHATSTACK_MAX_ROOMS              = tostring(var.settings.max_rooms)
      CHATSTACK_MAX_GROUP_PARTICIPANTS = tostring(var.settings.max_group_participants)
      CHATSTACK_DEDUPE_TTL_SECONDS     = tostring(var.settings.dedupe_ttl_seconds)
      CHATSTACK_DELIVERY               = var.settings.delivery
      CHATSTACK_FANOUT_FUNCTION        = local.functions[local.fanout_function].name
      CHATSTACK_SHARD_THRESHOLD        = tostring(var.settings.shard_threshold)
      CHATSTACK_SHARD_SIZE             = tostring(var.settings.shard_size)
      CHATSTACK_SHARD_ATTEMPTS         = tostring(var.settings.shard_attempts)
      CHATSTACK_RECEIPTS_FANOUT_MAX    = tostring(var.settings.receipts_fanout_max)
      CHATSTACK_TYPING_INTERVAL_MS     = tostring(var.settings.typing_interval_ms)
      CHATSTACK_PRESENCE_MAX_CHATS     = tostring(var.settings.presence_max_chats)
      CHATSTACK_MEDIA_CONTENT_TYPES    = join(",", var.settings.media_content_types)
      CHATSTACK_MEDIA_MAX_BYTES        = tostring(var.settings.media_max_bytes)
      # A presigned URL works as long as the credentials that signed it: a function's role
      # session lasts longer than these few minutes.
      CHATSTACK_MEDIA_UPLOAD_TTL_SECONDS   = tostring(var.settings.media_upload_ttl_seconds)
      CHATSTACK_MEDIA_DOWNLOAD_TTL_SECONDS = tostring(var.settings.media_download_ttl_seconds)
      CHATSTACK_MEDIA_BUCKET               = aws_s3_bucket.media["media"].id
      CHATSTACK_MEDIA_DOWNLOAD_URL         = "https://${aws_cloudfront_distribution.media["media"].domain_name}"
    },
  )
  cors_origin = coalesce(var.cors_origin, "https://${aws_cloudfront_distribution.web.domain_name}")
}

resource "aws_cloudwatch_log_group" "function" {
  for_each          = local.functions
  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  #checkov:skip=CKV_AWS_338:Retention is 7 days by design (var.log_retention_days): every invocation logs a line, and a year of them would cost more than the stack.
}

resource "aws_lambda_function" "this" {
  for_each = local.functions
  #checkov:skip=CKV_AWS_116:The one asynchronously invoked function (fan-out shards) sends failed events to an on-failure destination (aws_lambda_function_event_invoke_config), which supersedes a DLQ; the others are invoked synchronously (API Gateway, and the stream mapping, which has its own on-failure queue).
  #checkov:skip=CKV_AWS_117:No VPC: the functions reach only DynamoDB, SSM and API Gateway over AWS's endpoints with IAM; a VPC would add NAT or endpoint cost at rest for nothing.
  #checkov:skip=CKV_AWS_115:No reserved concurrency: new accounts have 10 in all, and reserving some per function fails there; the stages' throttles bound the load instead.
  #checkov:skip=CKV_AWS_272:No code signing: the package is built reproducibly from the repository and pinned by source_code_hash; signing needs an AWS Signer profile per account.
  #checkov:skip=CKV_AWS_50:Tracing is PassThrough by default (var.lambda_tracing_mode): Active samples the first request of every second, at chat rates nearly every invocation, $5 per million traces.

  function_name    = each.value.name
  description      = "chatstack ${each.key}: ${each.value.handler}"
  role             = aws_iam_role.function[each.key].arn
  handler          = each.value.handler
  runtime          = local.lambda_runtime
  architectures    = [var.lambda_architecture]
  memory_size      = each.value.memory_mb
  timeout          = each.value.timeout_s
  filename         = var.lambda_zip
  source_code_hash = filebase64sha256(var.lambda_zip)
  kms_key_arn      = aws_kms_key.main.arn

  dynamic "environment" {
    for_each = length(each.value.env) > 0 ? [each.value.env] : []
    content {
      variables = { for name in environment.value : name => local.env_values[name] }
    }
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.function[each.key].name
    application_log_level = "INFO"
    system_log_level      = "WARN"
  }

  tracing_config {
    mode = var.lambda_tracing_mode
  }

  depends_on = [aws_iam_role_policy.function]
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [local.principal["lambda"]]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "function" {
  for_each           = local.functions
  name               = "${each.value.name}-${local.region}"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "function" {
  for_each = local.functions
  name     = "least-privilege"
  role     = aws_iam_role.function[each.key].id
  policy   = data.aws_iam_policy_document.function[each.key].json
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function[each.key].arn}:*"]
  }

  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # X-Ray has no resource-level permissions for these
  }

  # Exactly the DynamoDB actions stack.json lists for this function, on each of its tables
  # (and, for a Query, on the table's indexes: the chat list reads the Chats table's "inbox").
  dynamic "statement" {
    for_each = each.value.tables
    content {
      sid     = "Table${title(statement.key)}"
      actions = statement.value
      resources = concat(
        [aws_dynamodb_table.this[statement.key].arn],
        contains(statement.value, "dynamodb:Query") && length(local.tables[statement.key].indexes) > 0 ? ["${aws_dynamodb_table.this[statement.key].arn}/index/*"] : [],
      )
    }
  }

  # Exactly the S3 actions stack.json lists for this function, on its buckets' upload prefix
  # alone. A presigned URL acts with these permissions: the upload grant's PutObject (and the
  # tagging its form sets), the download's GetObject.
  dynamic "statement" {
    for_each = try(each.value.buckets, {})
    content {
      sid       = "Bucket${title(statement.key)}"
      actions   = statement.value
      resources = ["${aws_s3_bucket.media[statement.key].arn}/${local.buckets[statement.key].upload_prefix}*"]
    }
  }

  # The media bucket's objects are encrypted with the stage's key (an S3 bucket key): S3
  # generates and decrypts data keys with the caller's permission, only for S3.
  dynamic "statement" {
    for_each = length(try(each.value.buckets, {})) > 0 ? [1] : []
    content {
      sid       = "MediaKeyThroughS3"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [aws_kms_key.main.arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.${local.dns_suffix}"]
      }
    }
  }

  # The tables and the parameter are encrypted with the stage's key; DynamoDB and SSM decrypt
  # with the caller's permission, and only through those services.
  dynamic "statement" {
    for_each = length(each.value.tables) > 0 || each.value.reads_jwt_secret ? [1] : []
    content {
      sid       = "DecryptThroughServices"
      actions   = ["kms:Decrypt"]
      resources = [aws_kms_key.main.arn]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values = concat(
          length(each.value.tables) > 0 ? ["dynamodb.${local.region}.${local.dns_suffix}"] : [],
          each.value.reads_jwt_secret ? ["ssm.${local.region}.${local.dns_suffix}"] : [],
        )
      }
    }
  }

  dynamic "statement" {
    for_each = each.value.reads_jwt_secret ? [1] : []
    content {
      sid       = "JwtSecret"
      actions   = ["ssm:GetParameter"]
      resources = [aws_ssm_parameter.jwt_secret.arn]
    }
  }

  # @connections of this API's stage only, and POST only: the broadcaster never gets or
  # deletes a connection (a gone one is answered 410 and removed from the table).
  dynamic "statement" {
    for_each = each.value.manages_connections ? [1] : []
    content {
      sid       = "PostToConnections"
      actions   = ["execute-api:ManageConnections"]
      resources = ["${aws_apigatewayv2_api.ws.execution_arn}/${var.stage}/POST/@connections/*"]
    }
  }

  # Shards of large rooms go to the fan-out function (which also re-invokes itself with the
  # recipients a shard could not reach).
  dynamic "statement" {
    for_each = each.value.invokes_fanout ? [1] : []
    content {
      sid       = "InvokeFanout"
      actions   = ["lambda:InvokeFunction"]
      resources = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.functions[local.fanout_function].name}"]
    }
  }

  # Asynchronous events that fail every retry go to the on-failure queue, with this role.
  dynamic "statement" {
    for_each = each.value.async_invoke != null ? [1] : []
    content {
      sid       = "AsyncFailures"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.async_failures.arn]
    }
  }

  # The event source mappings poll their streams and send failed batches with this role.
  dynamic "statement" {
    for_each = length(each.value.stream_tables) > 0 ? [1] : []
    content {
      sid       = "ReadStream"
      actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
      resources = [for table in each.value.stream_tables : aws_dynamodb_table.this[table].stream_arn]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.stream_tables) > 0 ? [1] : []
    content {
      sid       = "ListStreams"
      actions   = ["dynamodb:ListStreams"]
      resources = [for table in each.value.stream_tables : "${aws_dynamodb_table.this[table].arn}/stream/*"]
    }
  }

  dynamic "statement" {
    for_each = length(each.value.stream_tables) > 0 ? [1] : []
    content {
      sid       = "StreamFailures"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.stream_failures.arn]
    }
  }
}

# Asynchronous invocations (fan-out shards): Lambda retries a failed one, then sends the event
# to this queue, kept 14 days; the undelivered recipients are in it.
resource "aws_lambda_function_event_invoke_config" "this" {
  for_each                     = local.async_functions
  function_name                = aws_lambda_function.this[each.key].function_name
  maximum_retry_attempts       = each.value.async_invoke.maximum_retry_attempts
  maximum_event_age_in_seconds = each.value.async_invoke.maximum_event_age_s

  destination_config {
    on_failure {
      destination = aws_sqs_queue.async_failures.arn
    }
  }
}

resource "aws_sqs_queue" "async_failures" {
  name                      = "${local.prefix}-async-failures"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}
