"""What the app does, below the HTTP layer: the create/change/delete flows shared by the API blueprints
(`chalicelib.api`) and the triggers (`chalicelib.triggers`, the local stack's firer and watcher). Each function
takes the `Runtime` (settings, store, reconcile kicker) it works with; none reads the environment or a request.
Blueprints never import each other: what two of them share lives here.
"""
