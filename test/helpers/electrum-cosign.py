# Electrum (Debian python3-electrum 4.3.4) as an independent cosigner of a 2-of-3 wallet, offline,
# on regtest: loads the three keys (one xprv, two xpubs, SLIP-132 or plain), prints its first
# receive address, signs the PSBT read from stdin with the xprv and finalizes it when complete.
# Input: argv[1] = {"keys": [{"xkey", "path", "fp"}, ...]}; output: one JSON line.
import json
import os
import sys
import tempfile

from electrum import constants, keystore, util
from electrum.bip32 import BIP32Node
from electrum.simple_config import SimpleConfig
from electrum.storage import WalletStorage
from electrum.transaction import PartialTransaction
from electrum.wallet import Wallet
from electrum.wallet_db import WalletDB

constants.set_regtest()
loop, stop_loop, loop_thread = util.create_and_start_event_loop()
try:
    cfg = json.loads(sys.argv[1])
    home = tempfile.mkdtemp()
    config = SimpleConfig({'electrum_path': home, 'offline': True, 'regtest': True})
    db = WalletDB('', manual_upgrades=False)
    db.put('wallet_type', '2of3')
    for i, k in enumerate(cfg['keys']):
        node = BIP32Node.from_xkey(k['xkey'], net=constants.net)
        ks = keystore.from_xprv(k['xkey']) if node.is_private() else keystore.from_xpub(k['xkey'])
        ks.add_key_origin(derivation_prefix=k['path'], root_fingerprint=k['fp'])
        db.put('x%d/' % (i + 1), ks.dump())
    wallet = Wallet(db, WalletStorage(os.path.join(home, 'wallet')), config=config)
    receiving = wallet.get_receiving_addresses() or [wallet.create_new_address(False)]
    out = {'firstAddress': receiving[0]}
    psbt = sys.stdin.read().strip()
    if psbt:
        tx = PartialTransaction.from_raw_psbt(psbt)
        tx.add_info_from_wallet(wallet)
        out['sigsBefore'] = sum(len(i.part_sigs) for i in tx.inputs())
        wallet.sign_transaction(tx, password=None)
        out['sigsAfter'] = sum(len(i.part_sigs) for i in tx.inputs())
        out['complete'] = tx.is_complete()
        if tx.is_complete():
            out['raw'] = tx.serialize()
        out['psbt'] = tx.serialize_as_bytes(force_psbt=True).hex()
    print(json.dumps(out))
finally:
    loop.call_soon_threadsafe(stop_loop.set_result, 1)
    loop_thread.join(timeout=5)
