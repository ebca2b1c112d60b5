// Benchmark: a byte-at-a-time parse over a 4 KiB buffer passed in r1 (length-prefixed records:
// a varint length, then that many bytes summed with a rolling checksum).
// Built with: clang-19 -target bpf -O2 -mcpu=v3 -c byte_parse.c -o byte_parse.o
#define SEC(n) __attribute__((section(n), used))
#define BUF_SIZE 4096

SEC("sockops")
int byte_parse(unsigned char *buf)
{
	unsigned int pos = 0, records = 0, sum = 1, lines = 0;

#pragma clang loop unroll(disable)
	while (pos < BUF_SIZE) {
		unsigned int len = 0, shift = 0;
		unsigned char b;
		do {
			if (pos >= BUF_SIZE)
				goto out;
			b = buf[pos++];
			len |= (unsigned int)(b & 0x7f) << shift;
			shift += 7;
		} while ((b & 0x80) && shift < 28);
#pragma clang loop unroll(disable)
		for (unsigned int k = 0; k < len && pos < BUF_SIZE; k++) {
			unsigned char c = buf[pos++];
			sum = (sum << 5) + sum + c;
			if (c == '\n')
				lines++;
		}
		records++;
	}
out:
	return (int)(sum ^ (records << 16) ^ lines);
}

char _license[] SEC("license") = "GPL";
