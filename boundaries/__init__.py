"""Geography: loaders for boundary, lookup and postcode-directory files."""
