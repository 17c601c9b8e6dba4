"""Extract from the web: URL manifests and listing pages -> the landing folder (see etl.fetch.run)."""
