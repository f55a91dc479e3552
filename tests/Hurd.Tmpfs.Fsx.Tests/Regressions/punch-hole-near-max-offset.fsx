# PUNCH_HOLE ending just below LLONG_MAX: tmpfs rounded the offset up to a page with (from + 4095) / 4096, which
# overflowed; the server failed the call (EIO) where the kernel punches nothing and answers 0.
open slot=5 path=f2 flags=O_WRONLY|O_CREAT mode=04755
fallocate slot=5 flags=KEEP_SIZE|PUNCH_HOLE off=9223372036854773643 len=335
fstat slot=5
