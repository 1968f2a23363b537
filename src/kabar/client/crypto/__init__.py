"""Client-side end-to-end encryption: pure state machines over vodozemac, no networking.

One module per concept (see ``docs/e2e.md`` for the protocol):

* ``device``      this device's Olm account: identity and one-time key uploads
* ``directory``   other devices this client knows (trust on first use)
* ``olm``         to-device encryption between two devices (key sharing)
* ``megolm``      conversation messages: outbound rotation, inbound sessions, franking check
* ``state``       the pickled, persistable form of the sessions above
* ``franking``    abuse-report material for one decrypted message
* ``backup``      recovery key and server-side key backup
* ``forwarding``  room key requests to, and forwarded keys from, our own devices
* ``safety``      safety numbers and device-change detection
* ``attachments`` per-file AES-256-GCM encryption
* ``errors``      the ``CryptoError`` tree
"""
