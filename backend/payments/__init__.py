"""The payment gateway edge: payment links, the signed payment webhook, the local provider."""
