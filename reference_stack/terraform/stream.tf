# Messages table stream → broadcaster, configured from stack.json's "stream".
resource "aws_lambda_event_source_mapping" "stream" {
  event_source_arn                   = aws_dynamodb_table.this[local.stream.table].stream_arn
  function_name                      = aws_lambda_function.this[local.stream.function].arn
  starting_position                  = "LATEST"
  batch_size                         = local.stream.batch_size
  maximum_batching_window_in_seconds = 0 # deliver at once: latency over batching
  parallelization_factor             = 1 # one batch per shard at a time keeps a room's order
  maximum_retry_attempts             = local.stream.maximum_retry_attempts
  bisect_batch_on_function_error     = local.stream.bisect_batch_on_function_error
  function_response_types            = local.stream.function_response_types

  # Only new chat messages wake the broadcaster; dedupe claims and TTL deletions do not.
  filter_criteria {
    filter {
      pattern = local.stream_filter_pattern
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.stream_failures.arn
    }
  }

  depends_on = [aws_iam_role_policy.function]
}

# Records that still fail after the retries: their metadata (shard, sequence numbers) is kept
# 14 days for inspection; the messages themselves stay in the history.
resource "aws_sqs_queue" "stream_failures" {
  name                      = "${local.prefix}-stream-failures"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}
