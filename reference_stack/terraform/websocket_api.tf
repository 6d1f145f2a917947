# WebSocket API: the routes of stack.json, selected on $request.body.action. Every route but
# $connect/$disconnect is two-way: the handler returns the reply frame as its response body,
# and the $default route response makes API Gateway send that body back on the connection.
resource "aws_apigatewayv2_api" "ws" {
  name                       = "${local.prefix}-ws"
  description                = "chatstack ${var.stage}: WebSocket chat"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = local.stack.websocket.route_selection_expression
}

resource "aws_apigatewayv2_integration" "route" {
  for_each           = local.ws_routes
  api_id             = aws_apigatewayv2_api.ws.id
  integration_type   = "AWS_PROXY"
  integration_method = "POST"
  integration_uri    = aws_lambda_function.this[each.value].invoke_arn
}

resource "aws_apigatewayv2_route" "route" {
  for_each = local.ws_routes
  #checkov:skip=CKV_AWS_309:$connect authenticates the ?token= JWT in its function and refuses the handshake with 401, as the contract requires; later routes run on that authenticated connection.
  api_id                              = aws_apigatewayv2_api.ws.id
  route_key                           = each.key
  authorization_type                  = "NONE"
  target                              = "integrations/${aws_apigatewayv2_integration.route[each.key].id}"
  route_response_selection_expression = contains(keys(local.ws_two_way_routes), each.key) ? "$default" : null
}

resource "aws_apigatewayv2_route_response" "route" {
  for_each           = local.ws_two_way_routes
  api_id             = aws_apigatewayv2_api.ws.id
  route_id           = aws_apigatewayv2_route.route[each.key].id
  route_response_key = "$default"
}

resource "aws_lambda_permission" "ws" {
  for_each      = local.ws_routes
  statement_id  = "websocket-${trimprefix(each.key, "$")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value].function_name
  principal     = local.principal["apigateway"]
  source_arn    = "${aws_apigatewayv2_api.ws.execution_arn}/${var.stage}/${each.key}"
}

resource "aws_cloudwatch_log_group" "ws_access" {
  name              = "/aws/apigateway/${local.prefix}-ws/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  #checkov:skip=CKV_AWS_338:Retention is 7 days by design (var.log_retention_days).
}

resource "aws_cloudwatch_log_group" "ws_execution" {
  name              = "API-Gateway-Execution-Logs_${aws_apigatewayv2_api.ws.id}/${var.stage}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  #checkov:skip=CKV_AWS_338:Retention is 7 days by design (var.log_retention_days).
}

resource "aws_apigatewayv2_stage" "ws" {
  #checkov:skip=CKV2_AWS_51:Public API for browsers; client certificates authenticate API Gateway to a backend, and the backend here is Lambda.
  api_id      = aws_apigatewayv2_api.ws.id
  name        = var.stage
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit    = var.ws_throttle.rate
    throttling_burst_limit   = var.ws_throttle.burst
    logging_level            = "ERROR"
    data_trace_enabled       = false # would log every frame: messages and tokens
    detailed_metrics_enabled = false
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.ws_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      connectionId       = "$context.connectionId"
      eventType          = "$context.eventType"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTimeEpoch"
      integrationLatency = "$context.integrationLatency"
      errorMessage       = "$context.error.message"
    })
  }

  # Deploy once the routes exist; later changes to them redeploy automatically.
  depends_on = [
    aws_apigatewayv2_route.route,
    aws_apigatewayv2_route_response.route,
    aws_cloudwatch_log_group.ws_execution,
  ]
}
