"""WTForms forms (CSRF through Flask-WTF)."""
