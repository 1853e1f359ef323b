"""The returns domain: every rule of the portal, and the read models of its pages. No Flask
here, no environment; each function that writes owns its transaction. docs/architecture.md
says which module holds which rule."""
