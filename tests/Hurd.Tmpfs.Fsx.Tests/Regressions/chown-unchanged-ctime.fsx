# chown(f, -1, -1) sets ctime on Linux; FUSE sends a SETATTR with nothing valid, which the bridge ignored.
open path=f0 flags=O_RDWR|O_CREAT mode=0644
close
stat path=f0
verify
chown path=f0 uid=-1 gid=-1
stat path=f0
