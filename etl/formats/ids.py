"""What a valid id of each default type looks like, for every format that reads ids (users' ids, orders'
buyers): one definition, so that an email a users import accepts is one an orders import accepts too."""

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
SHA256_HEX = r"^[0-9a-f]{64}$"
PHONE = r"^\+?[0-9][0-9 ().\-]{4,22}[0-9]$"
