# REST API: the routes of stack.json as Lambda proxy integrations, an OPTIONS mock answering
# each path's CORS preflight, and API Gateway's own errors (403 Missing Authentication Token,
# …) carrying the CORS header too.
resource "aws_api_gateway_rest_api" "rest" {
  name        = "${local.prefix}-rest"
  description = "chatstack ${var.stage}: sign up, log in, chats, people, rooms"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

# One resource per path segment, level by level: "/chats", then "/chats/{chatId}", then
# "/chats/{chatId}/messages" (a resource names its parent, which must exist first).
resource "aws_api_gateway_resource" "path" {
  for_each    = local.rest_paths_by_depth[1]
  rest_api_id = aws_api_gateway_rest_api.rest.id
  parent_id   = aws_api_gateway_rest_api.rest.root_resource_id
  path_part   = each.value.path_part

  lifecycle {
    precondition {
      condition     = alltrue([for path, spec in local.rest_paths : spec.depth <= 3 && can(regex("^([A-Za-z0-9_-]+|\\{[A-Za-z0-9_]+\\})$", spec.path_part))])
      error_message = "REST paths in stack.json are at most three segments of A-Z a-z 0-9 _ - or a {parameter}."
    }
  }
}

resource "aws_api_gateway_resource" "path_level2" {
  for_each    = local.rest_paths_by_depth[2]
  rest_api_id = aws_api_gateway_rest_api.rest.id
  parent_id   = aws_api_gateway_resource.path[each.value.parent].id
  path_part   = each.value.path_part
}

resource "aws_api_gateway_resource" "path_level3" {
  for_each    = local.rest_paths_by_depth[3]
  rest_api_id = aws_api_gateway_rest_api.rest.id
  parent_id   = aws_api_gateway_resource.path_level2[each.value.parent].id
  path_part   = each.value.path_part
}

locals {
  rest_resource_ids = merge(
    { for path, resource in aws_api_gateway_resource.path : path => resource.id },
    { for path, resource in aws_api_gateway_resource.path_level2 : path => resource.id },
    { for path, resource in aws_api_gateway_resource.path_level3 : path => resource.id },
  )
}

resource "aws_api_gateway_method" "route" {
  for_each = local.rest_routes
  #checkov:skip=CKV_AWS_59:signup and login are how a caller obtains credentials, public by the contract; every other route checks the caller's Bearer JWT in its function and answers 401 UNAUTHORIZED in the contract's error shape, as $connect does.
  #checkov:skip=CKV2_AWS_53:The handler validates the body and answers the contract's error shape; an API Gateway model would answer 400 in its own shape.
  rest_api_id   = aws_api_gateway_rest_api.rest.id
  resource_id   = local.rest_resource_ids[each.value.resource]
  http_method   = each.value.method
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "route" {
  for_each                = local.rest_routes
  rest_api_id             = aws_api_gateway_rest_api.rest.id
  resource_id             = local.rest_resource_ids[each.value.resource]
  http_method             = aws_api_gateway_method.route[each.key].http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.this[each.value.function].invoke_arn
}

resource "aws_lambda_permission" "rest" {
  for_each      = local.rest_routes
  statement_id  = "rest-${each.value.method}-${replace(each.value.resource, "/[^A-Za-z0-9_]+/", "-")}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.value.function].function_name
  principal     = local.principal["apigateway"]
  source_arn    = "${aws_api_gateway_rest_api.rest.execution_arn}/${var.stage}/${each.value.method}${each.value.arn_path}"
}

# CORS preflight: OPTIONS on each path that has routes, answered by a mock integration.
resource "aws_api_gateway_method" "preflight" {
  for_each = local.rest_route_paths
  #checkov:skip=CKV_AWS_59:A CORS preflight carries no credentials by definition.
  #checkov:skip=CKV2_AWS_53:A mock integration with no body to validate.
  rest_api_id   = aws_api_gateway_rest_api.rest.id
  resource_id   = local.rest_resource_ids[each.key]
  http_method   = "OPTIONS"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "preflight" {
  for_each          = local.rest_route_paths
  rest_api_id       = aws_api_gateway_rest_api.rest.id
  resource_id       = local.rest_resource_ids[each.key]
  http_method       = aws_api_gateway_method.preflight[each.key].http_method
  type              = "MOCK"
  request_templates = { "application/json" = jsonencode({ statusCode = 200 }) }
}

resource "aws_api_gateway_method_response" "preflight" {
  for_each    = local.rest_route_paths
  rest_api_id = aws_api_gateway_rest_api.rest.id
  resource_id = local.rest_resource_ids[each.key]
  http_method = aws_api_gateway_method.preflight[each.key].http_method
  status_code = "200"

  response_parameters = {
    "method.response.header.Access-Control-Allow-Origin"  = true
    "method.response.header.Access-Control-Allow-Methods" = true
    "method.response.header.Access-Control-Allow-Headers" = true
    "method.response.header.Access-Control-Max-Age"       = true
  }
}

resource "aws_api_gateway_integration_response" "preflight" {
  for_each    = local.rest_route_paths
  rest_api_id = aws_api_gateway_rest_api.rest.id
  resource_id = local.rest_resource_ids[each.key]
  http_method = aws_api_gateway_method.preflight[each.key].http_method
  status_code = aws_api_gateway_method_response.preflight[each.key].status_code

  response_parameters = {
    "method.response.header.Access-Control-Allow-Origin"  = "'${local.cors_origin}'"
    "method.response.header.Access-Control-Allow-Methods" = "'${join(",", concat(["OPTIONS"], each.value.methods))}'"
    "method.response.header.Access-Control-Allow-Headers" = "'Content-Type,Authorization'"
    "method.response.header.Access-Control-Max-Age"       = "'600'"
  }

  depends_on = [aws_api_gateway_integration.preflight]
}

# API Gateway's own 4XX/5XX answers keep their {"message": …} body and gain the CORS header.
resource "aws_api_gateway_gateway_response" "cors" {
  for_each      = toset(["DEFAULT_4XX", "DEFAULT_5XX"])
  rest_api_id   = aws_api_gateway_rest_api.rest.id
  response_type = each.key

  response_templates = {
    "application/json" = "{\"message\":$context.error.messageString}"
  }

  response_parameters = {
    "gatewayresponse.header.Access-Control-Allow-Origin" = "'${local.cors_origin}'"
  }
}

resource "aws_api_gateway_deployment" "rest" {
  rest_api_id = aws_api_gateway_rest_api.rest.id

  # A new deployment whenever anything the stage serves changes.
  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.path,
      aws_api_gateway_resource.path_level2,
      aws_api_gateway_resource.path_level3,
      aws_api_gateway_method.route,
      aws_api_gateway_integration.route,
      aws_api_gateway_method.preflight,
      aws_api_gateway_integration.preflight,
      aws_api_gateway_method_response.preflight,
      aws_api_gateway_integration_response.preflight,
      aws_api_gateway_gateway_response.cors,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "rest_access" {
  name              = "/aws/apigateway/${local.prefix}-rest/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  #checkov:skip=CKV_AWS_338:Retention is 7 days by design (var.log_retention_days).
}

# API Gateway writes execution logs here; created first so it does not keep them for ever.
resource "aws_cloudwatch_log_group" "rest_execution" {
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.rest.id}/${var.stage}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
  #checkov:skip=CKV_AWS_338:Retention is 7 days by design (var.log_retention_days).
}

resource "aws_api_gateway_stage" "rest" {
  #checkov:skip=CKV_AWS_120:No response caching: every answer is for one caller (signup, login, their chats) and must never be shared.
  #checkov:skip=CKV2_AWS_29:No WAF by default (a web ACL costs $5/month at rest); the stage throttle bounds the load. Attach one for production traffic.
  #checkov:skip=CKV2_AWS_51:Public API for browsers; client certificates authenticate API Gateway to a backend, and the backend here is Lambda.
  rest_api_id          = aws_api_gateway_rest_api.rest.id
  deployment_id        = aws_api_gateway_deployment.rest.id
  stage_name           = var.stage
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.rest_access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      ip                 = "$context.identity.sourceIp"
      requestTime        = "$context.requestTimeEpoch"
      httpMethod         = "$context.httpMethod"
      resourcePath       = "$context.resourcePath"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationLatency = "$context.integration.latency"
      errorMessage       = "$context.error.message"
    })
  }

  depends_on = [aws_cloudwatch_log_group.rest_execution]
}

resource "aws_api_gateway_method_settings" "rest" {
  #checkov:skip=CKV_AWS_225:No response caching: every answer is for one caller (signup, login, their chats) and must never be shared.
  rest_api_id = aws_api_gateway_rest_api.rest.id
  stage_name  = aws_api_gateway_stage.rest.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false # would log request bodies: passwords
    caching_enabled        = false
    throttling_rate_limit  = var.rest_throttle.rate
    throttling_burst_limit = var.rest_throttle.burst
  }
}
