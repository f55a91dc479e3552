# mmap writeback through an O_APPEND handle: the bridge wrote the dirty pages with io_write on the O_APPEND peropen,
# which appends (Linux's pwrite rule); the data went to the end of the file (verify: 106356 bytes vs 98234).
open path=f3 flags=O_WRONLY|O_CREAT mode=0755
pwrite off=92310 len=5924 pat=107420
open slot=1 path=f3 flags=O_RDWR|O_CREAT|O_APPEND mode=0600
open path=f3 flags=O_RDWR|O_CREAT|O_APPEND
mmap_write slot=1 off=94131 len=46758 pat=703860
verify
fstat slot=1
