"""The Textual front end (imports textual; core/ never imports this)."""
