variable "name" {
  description = "Prefix of every resource name: {name}-{stage}-…"
  type        = string
  default     = "chatstack"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name))
    error_message = "name must be 2-20 characters of a-z 0-9 -, starting with a letter."
  }
}

variable "stage" {
  description = "Stage name: the API Gateway stage of both APIs and part of every resource name."
  type        = string
  default     = "dev"

  validation {
    condition     = contains(["dev", "staging", "prod"], var.stage)
    error_message = "stage must be one of dev, staging, prod."
  }
}

variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "lambda_zip" {
  description = "The Lambda package built by `python -m reference_stack.package` (relative to this directory)."
  type        = string
  default     = "../../build/lambda.zip"
}

variable "lambda_architecture" {
  description = "Architecture the package was built for: arm64 (Graviton, about 20 % cheaper per GB-second) or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64 (and match the package's --arch)."
  }
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing of the functions. PassThrough (default) traces what an upstream service sampled (the REST stage does); Active samples on its own: the first request of every second, which at chat rates is nearly every invocation, at $5 per million traces."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["Active", "PassThrough"], var.lambda_tracing_mode)
    error_message = "lambda_tracing_mode must be Active or PassThrough."
  }
}

variable "cors_origin" {
  description = "Access-Control-Allow-Origin of the REST API. Default (null): the stage's own web origin, https://{cloudfront domain}. \"*\" lets a front end served from anywhere (a local dev server) call it; the API takes a bearer token in the body, never cookies."
  type        = string
  default     = null
}

variable "settings" {
  description = "Function settings, passed as the CHATSTACK_* variables each function reads (defaults: those of lambdas/settings.py)."
  type = object({
    bcrypt_rounds          = optional(number, 12)
    token_ttl_seconds      = optional(number, 86400)
    connection_ttl_seconds = optional(number, 86400)
    max_rooms              = optional(number, 50)
    max_group_participants = optional(number, 50)
    dedupe_ttl_seconds     = optional(number, 86400)
    delivery               = optional(string, "signed")
    shard_threshold        = optional(number, 500)
    shard_size             = optional(number, 250)
    shard_attempts         = optional(number, 3)
    receipts_fanout_max    = optional(number, 20)
    typing_interval_ms     = optional(number, 2000)
    presence_max_chats     = optional(number, 50)
    # Media (lambdas/contract/media.py): accepted upload types, the largest file, URL lives.
    media_content_types        = optional(list(string), ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"])
    media_max_bytes            = optional(number, 10485760)
    media_upload_ttl_seconds   = optional(number, 300)
    media_download_ttl_seconds = optional(number, 300)
  })
  default = {}

  validation {
    condition     = contains(["signed", "boto3"], var.settings.delivery)
    error_message = "settings.delivery must be signed or boto3 (lambdas/settings.py)."
  }

  validation {
    condition     = var.settings.bcrypt_rounds >= 10 && var.settings.bcrypt_rounds <= 31
    error_message = "settings.bcrypt_rounds must be 10-31 (lambdas/settings.py refuses anything else)."
  }

  validation {
    condition = alltrue([
      for value in [var.settings.token_ttl_seconds, var.settings.connection_ttl_seconds, var.settings.max_rooms, var.settings.dedupe_ttl_seconds] :
      value >= 1 && floor(value) == value
    ])
    error_message = "settings.token_ttl_seconds, connection_ttl_seconds, max_rooms and dedupe_ttl_seconds must be whole numbers ≥ 1."
  }

  validation {
    condition = alltrue([
      for value in [var.settings.shard_threshold, var.settings.shard_size] : value >= 1 && floor(value) == value
    ]) && var.settings.shard_attempts >= 1 && var.settings.shard_attempts <= 10 && floor(var.settings.shard_attempts) == var.settings.shard_attempts
    error_message = "settings.shard_threshold and shard_size must be whole numbers ≥ 1, shard_attempts 1-10 (lambdas/settings.py)."
  }

  validation {
    condition     = var.settings.max_group_participants >= 2 && var.settings.max_group_participants <= 99 && floor(var.settings.max_group_participants) == var.settings.max_group_participants
    error_message = "settings.max_group_participants must be a whole number 2-99: a group is created in one transaction of at most 100 items (lambdas/settings.py)."
  }

  validation {
    condition = (
      var.settings.receipts_fanout_max >= 2 && var.settings.receipts_fanout_max <= 99 && floor(var.settings.receipts_fanout_max) == var.settings.receipts_fanout_max
      && var.settings.typing_interval_ms >= 100 && var.settings.typing_interval_ms <= 60000 && floor(var.settings.typing_interval_ms) == var.settings.typing_interval_ms
      && var.settings.presence_max_chats >= 1 && var.settings.presence_max_chats <= 500 && floor(var.settings.presence_max_chats) == var.settings.presence_max_chats
    )
    error_message = "settings.receipts_fanout_max must be a whole number 2-99, typing_interval_ms 100-60000, presence_max_chats 1-500 (lambdas/settings.py)."
  }

  validation {
    condition = alltrue([
      for value in [var.settings.media_upload_ttl_seconds, var.settings.media_download_ttl_seconds] :
      value >= 1 && value <= 900 && floor(value) == value
    ]) && var.settings.media_max_bytes >= 1 && length(var.settings.media_content_types) > 0
    error_message = "settings.media_*_ttl_seconds must be 1-900, media_max_bytes ≥ 1, media_content_types not empty (lambdas/settings.py)."
  }
}

variable "jwt_secret_version" {
  description = "Version of the generated JWT signing key. Increase it to rotate the key (tokens issued before stop working)."
  type        = number
  default     = 1
}

variable "log_retention_days" {
  description = "Retention of every log group this stack creates."
  type        = number
  default     = 7

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, … 365)."
  }
}

variable "rest_throttle" {
  description = "Steady rate (requests/s) and burst of the REST stage: a cost and abuse ceiling."
  type = object({
    rate  = number
    burst = number
  })
  default = { rate = 50, burst = 100 }
}

variable "ws_throttle" {
  description = "Steady rate (messages/s) and burst of the WebSocket stage's routes."
  type = object({
    rate  = number
    burst = number
  })
  default = { rate = 500, burst = 1000 }
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection. Default (null): on for prod only."
  type        = bool
  default     = null
}
