# Everything derived from the one definition, reference_stack/stack.json: tables, functions,
# routes and the stream mapping. Only plain values here — no resources — so the tests can
# evaluate this file with `terraform apply` on no provider at all.
locals {
  stack  = jsondecode(file("${path.module}/../stack.json"))
  prefix = "${var.name}-${var.stage}"

  # Must match lambdas/domain/messages.py MESSAGE_KIND: only INSERTs of items of this kind
  # invoke the broadcaster (dedupe claims share the table and the stream).
  message_kind = "message"

  # The package is built for this Python (reference_stack/package.py --python-version).
  lambda_runtime = "python3.12"

  tables = {
    for key, table in local.stack.tables : key => merge(table, {
      name = "${local.prefix}-${key}"
    })
  }

  functions = {
    for key, fn in local.stack.functions : key => merge(fn, {
      name                = "${local.prefix}-${replace(key, "_", "-")}"
      reads_jwt_secret    = contains(fn.env, "CHATSTACK_JWT_SECRET_PARAM")
      manages_connections = contains(fn.env, "CHATSTACK_MANAGEMENT_URL")
      consumes_stream     = key == local.stack.stream.function
      invokes_fanout      = contains(fn.env, "CHATSTACK_FANOUT_FUNCTION")
      async_invoke        = try(fn.async_invoke, null)
    })
  }

  # REST: one API Gateway resource per path (one level: "/signup"), one method per route.
  rest_routes = {
    for route in local.stack.rest_routes : "${route.method} ${route.path}" => merge(route, {
      path_part = trimprefix(route.path, "/")
    })
  }
  rest_paths = {
    for part in distinct([for route in local.stack.rest_routes : trimprefix(route.path, "/")]) :
    part => {
      methods = sort([for route in local.stack.rest_routes : route.method if trimprefix(route.path, "/") == part])
    }
  }

  # WebSocket: every route but $connect/$disconnect answers with its Lambda's body (two-way).
  ws_routes         = local.stack.websocket.routes
  ws_two_way_routes = { for route, fn in local.ws_routes : route => fn if !contains(["$connect", "$disconnect"], route) }

  # The fan-out function, which the broadcaster (and the function itself, for retry shards)
  # invokes asynchronously; the ARN is built from the name, as the function depends on its role.
  fanout_function = "fanout_shard"
  async_functions = { for key, fn in local.functions : key => fn if fn.async_invoke != null }

  stream = local.stack.stream
  stream_filter_pattern = jsonencode({
    eventName = ["INSERT"]
    dynamodb  = { NewImage = { kind = { S = [local.message_kind] } } }
  })

  deletion_protection = coalesce(var.deletion_protection, var.stage == "prod")
}
