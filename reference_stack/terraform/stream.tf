# Table streams → functions, one event source mapping per entry of stack.json's "streams":
# Messages → broadcaster (delivery) and → chat_inbox (chat lists); Chats → chat_events
# (chatAdded / chatRemoved frames).
resource "aws_lambda_event_source_mapping" "stream" {
  for_each = local.streams

  event_source_arn                   = aws_dynamodb_table.this[each.value.table].stream_arn
  function_name                      = aws_lambda_function.this[each.value.function].arn
  starting_position                  = "LATEST"
  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = 0 # deliver at once: latency over batching
  # Batches of a shard at once, in lanes by partition key: a room's messages keep their order.
  parallelization_factor         = each.value.parallelization_factor
  maximum_retry_attempts         = each.value.maximum_retry_attempts
  bisect_batch_on_function_error = each.value.bisect_batch_on_function_error
  function_response_types        = each.value.function_response_types

  # Only the records the function acts on invoke it (e.g. new messages, not dedupe claims).
  filter_criteria {
    dynamic "filter" {
      for_each = each.value.filters
      content {
        pattern = jsonencode(filter.value)
      }
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.stream_failures.arn
    }
  }

  depends_on = [aws_iam_role_policy.function]
}

# The one mapping of earlier versions is the broadcaster's: kept, not replaced.
moved {
  from = aws_lambda_event_source_mapping.stream
  to   = aws_lambda_event_source_mapping.stream["broadcast"]
}

# Records that still fail after the retries: their metadata (shard, sequence numbers) is kept
# 14 days for inspection; the messages themselves stay in the history.
resource "aws_sqs_queue" "stream_failures" {
  name                      = "${local.prefix}-stream-failures"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}
