"""Writes an Ed25519 key pair for a simulator account: DIR/private.pem (PKCS#8, for the client)
and DIR/public.pem (SubjectPublicKeyInfo, for `stratbox exchange-sim --ed25519-key`), with
pycryptodome, which binance-sdk-spot signs with.

Usage: python3 ed25519_keys.py DIR
"""

import os
import sys

from Crypto.PublicKey import ECC


def main(directory):
    key = ECC.generate(curve="ed25519")
    with open(os.path.join(directory, "private.pem"), "w") as f:
        f.write(key.export_key(format="PEM"))
    with open(os.path.join(directory, "public.pem"), "w") as f:
        f.write(key.public_key().export_key(format="PEM"))


if __name__ == "__main__":
    main(sys.argv[1])
