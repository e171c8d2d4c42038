#!/bin/sh
# A ServiceLB pod's entry, doing what klipper-lb does: pick the iptables
# backend the node uses, accept forwarded traffic from the allowed source
# ranges, DNAT the service port to the destination IPs and masquerade,
# then block. Environment (as K3s's ServiceLB controller sets it):
#   SRC_PORT, SRC_RANGES (comma list, default 0.0.0.0/0), DEST_PROTO,
#   DEST_PORT, DEST_IPS (space or comma list).
set -eu
: "${SRC_RANGES:=0.0.0.0/0}" "${DEST_PROTO:=TCP}"
proto=$(echo "$DEST_PROTO" | tr 'A-Z' 'a-z')
ips=$(echo "$DEST_IPS" | tr ',' ' ')

# The backend that already holds rules wins; nft otherwise.
ipt=iptables-nft
if [ "$(iptables-legacy-save 2>/dev/null | grep -c '^-')" -gt "$(iptables-nft-save 2>/dev/null | grep -c '^-')" ]; then
	ipt=iptables-legacy
fi
echo "servicelb: using $ipt"

if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
	echo "servicelb: net.ipv4.ip_forward is not 1: cannot forward" >&2
	exit 1
fi
for range in $(echo "$SRC_RANGES" | tr ',' ' '); do
	$ipt -w -t filter -I FORWARD -s "$range" -p "$proto" --dport "$DEST_PORT" -j ACCEPT
done
for ip in $ips; do
	$ipt -w -t nat -I PREROUTING -p "$proto" --dport "$SRC_PORT" -j DNAT --to "$ip:$DEST_PORT"
	$ipt -w -t nat -I POSTROUTING -d "$ip/32" -p "$proto" -j MASQUERADE
done
echo "servicelb: forwarding $proto $SRC_PORT to $ips port $DEST_PORT"
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
