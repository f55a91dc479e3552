# fallocate (mode 0 or KEEP_SIZE) set only ctime on our tmpfs; Linux's shmem_fallocate sets mtime too (file_modified).
open path=f0 flags=O_RDWR|O_CREAT mode=0644
pwrite len=100 pat=1
fstat
verify
fallocate flags=KEEP_SIZE off=5619 len=20621
fstat
verify
fallocate off=1000 len=100
fstat
