"""The pages' words in each language: public pages, the console, the self-service cancel page."""
