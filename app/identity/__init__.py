"""Who a request is: accounts and organizations, roles, tokens, API keys and the principal
every route depends on. Sign-in flows and their routes are `app.auth`, above the features."""
