// What the kernel's send paths take on loopback, for the README's benchmark notes (`bench/tx-paths.sh` builds and
// runs it in a namespace it creates). Each mode crafts 500,000 SYNs to closed ports on 127.0.0.1 and prints its rate:
//   2  IPPROTO_RAW + sendmmsg (64 per call): what hping3 and tcpcraft use
//   0  AF_PACKET + sendmmsg on lo            1  the same with PACKET_QDISC_BYPASS
//   3  AF_PACKET PACKET_TX_RING (TPACKET_V2)  4  the same with PACKET_QDISC_BYPASS
//   5..7  IPPROTO_RAW with an AF_PACKET socket open beside it (5 unread; 6 PACKET_IGNORE_OUTGOING; 7 a reject-all BPF)
// Usage: tx_paths MODE   (needs CAP_NET_RAW; run it only inside a network namespace of its own)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <time.h>
#include <linux/filter.h>
static unsigned short csum(unsigned int acc, unsigned char *d, int n){for(int i=0;i+1<n;i+=2)acc+=(d[i]<<8)|d[i+1]; if(n&1)acc+=d[n-1]<<8; while(acc>>16)acc=(acc&0xffff)+(acc>>16); return ~acc&0xffff;}
static void build(unsigned char *p, int port){ // 14 eth + 20 ip + 20 tcp
 memset(p,0,54); p[12]=8; unsigned char *ip=p+14; ip[0]=0x45; ip[3]=40; ip[5]=1; ip[8]=64; ip[9]=6;
 ip[12]=127;ip[15]=1;ip[16]=127;ip[19]=1; unsigned short c=csum(0,ip,20); ip[10]=c>>8; ip[11]=c;
 unsigned char *t=ip+20; t[0]=47000>>8;t[1]=47000&255;t[2]=port>>8;t[3]=port; t[4]=1; t[12]=0x50;t[13]=2;t[14]=0xfa;
 unsigned int acc=0x7f00+0x0001+0x7f00+0x0001+6+20; c=csum(acc,t,20); t[16]=c>>8;t[17]=c;}
double now(){struct timespec ts;clock_gettime(CLOCK_MONOTONIC,&ts);return ts.tv_sec+ts.tv_nsec/1e9;}
int main(int argc,char**argv){
 int mode=atoi(argv[1]); int N=500000; int B=64;
 unsigned char buf[64][64]; struct mmsghdr m[64]; struct iovec io[64];
 if(mode==0||mode==1){ // AF_PACKET sendmmsg, mode1 = qdisc bypass
  int fd=socket(AF_PACKET,SOCK_RAW,0); int one=1;
  if(mode==1 && setsockopt(fd,SOL_PACKET,PACKET_QDISC_BYPASS,&one,sizeof one))perror("bypass");
  struct sockaddr_ll a={0}; a.sll_family=AF_PACKET; a.sll_ifindex=if_nametoindex("lo"); a.sll_protocol=htons(ETH_P_IP); a.sll_halen=6;
  double t0=now(); int sent=0;
  for(int s=0;s<N;s+=B){ for(int i=0;i<B;i++){build(buf[i],10000+(s+i)%50000); io[i].iov_base=buf[i]; io[i].iov_len=54; memset(&m[i],0,sizeof m[i]); m[i].msg_hdr.msg_name=&a; m[i].msg_hdr.msg_namelen=sizeof a; m[i].msg_hdr.msg_iov=&io[i]; m[i].msg_hdr.msg_iovlen=1;}
   int r=sendmmsg(fd,m,B,0); if(r<0){perror("sendmmsg");break;} sent+=r;}
  double t=now()-t0; printf("mode %d: %d in %.3f s = %.0f pps\n",mode,sent,t,sent/t);
 } else if(mode==5||mode==6||mode==7){ // IPPROTO_RAW + an AF_PACKET socket on lo (5: unread, no filter; 6: ignore outgoing; 7: +reject-all BPF)
  int ps=socket(AF_PACKET,SOCK_RAW,htons(ETH_P_ALL)); int one=1;
  if(mode>=6) setsockopt(ps,SOL_PACKET,23,&one,sizeof one);
  if(mode==7){ struct sock_filter f[]={{0x06,0,0,0}}; struct sock_fprog p={1,f}; setsockopt(ps,SOL_SOCKET,SO_ATTACH_FILTER,&p,sizeof p);}
  struct sockaddr_ll la={0}; la.sll_family=AF_PACKET; la.sll_protocol=htons(ETH_P_ALL); la.sll_ifindex=if_nametoindex("lo"); bind(ps,(void*)&la,sizeof la);
  int fd=socket(AF_INET,SOCK_RAW,IPPROTO_RAW); struct sockaddr_in a={0}; a.sin_family=AF_INET; a.sin_addr.s_addr=htonl(0x7f000001);
  double t0=now(); int sent=0;
  for(int s=0;s<N;s+=B){ for(int i=0;i<B;i++){build(buf[i],10000+(s+i)%50000); io[i].iov_base=buf[i]+14; io[i].iov_len=40; memset(&m[i],0,sizeof m[i]); m[i].msg_hdr.msg_name=&a; m[i].msg_hdr.msg_namelen=sizeof a; m[i].msg_hdr.msg_iov=&io[i]; m[i].msg_hdr.msg_iovlen=1;}
   int r=sendmmsg(fd,m,B,0); if(r<0){perror("sendmmsg");break;} sent+=r;}
  double t=now()-t0; printf("mode %d raw+packet: %d in %.3f s = %.0f pps\n",mode,sent,t,sent/t);
 } else if(mode==2){ // IPPROTO_RAW
  int fd=socket(AF_INET,SOCK_RAW,IPPROTO_RAW); struct sockaddr_in a={0}; a.sin_family=AF_INET; a.sin_addr.s_addr=htonl(0x7f000001);
  double t0=now(); int sent=0;
  for(int s=0;s<N;s+=B){ for(int i=0;i<B;i++){build(buf[i],10000+(s+i)%50000); io[i].iov_base=buf[i]+14; io[i].iov_len=40; memset(&m[i],0,sizeof m[i]); m[i].msg_hdr.msg_name=&a; m[i].msg_hdr.msg_namelen=sizeof a; m[i].msg_hdr.msg_iov=&io[i]; m[i].msg_hdr.msg_iovlen=1;}
   int r=sendmmsg(fd,m,B,0); if(r<0){perror("sendmmsg");break;} sent+=r;}
  double t=now()-t0; printf("mode 2 raw: %d in %.3f s = %.0f pps\n",sent,t,sent/t);
 } else { // TX_RING v2 + bypass
  int fd=socket(AF_PACKET,SOCK_RAW,0); int one=1, v=TPACKET_V2; setsockopt(fd,SOL_PACKET,PACKET_VERSION,&v,sizeof v);
  if(mode==4) setsockopt(fd,SOL_PACKET,PACKET_QDISC_BYPASS,&one,sizeof one);
  struct tpacket_req req={.tp_block_size=1<<16,.tp_block_nr=64,.tp_frame_size=256}; req.tp_frame_nr=req.tp_block_size/req.tp_frame_size*req.tp_block_nr;
  if(setsockopt(fd,SOL_PACKET,PACKET_TX_RING,&req,sizeof req)){perror("txring");return 1;}
  size_t len=(size_t)req.tp_block_size*req.tp_block_nr; unsigned char*ring=mmap(0,len,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0);
  struct sockaddr_ll a={0}; a.sll_family=AF_PACKET; a.sll_ifindex=if_nametoindex("lo"); a.sll_protocol=htons(ETH_P_IP);
  if(bind(fd,(void*)&a,sizeof a))perror("bind");
  double t0=now(); int sent=0; unsigned int fi=0, nf=req.tp_frame_nr;
  while(sent<N){ int k=0; for(;k<256 && sent+k<N;k++){ struct tpacket2_hdr*h=(void*)(ring+(size_t)(fi%nf)*req.tp_frame_size); while(h->tp_status!=TP_STATUS_AVAILABLE){ send(fd,0,0,0);} unsigned char*d=(unsigned char*)h+TPACKET2_HDRLEN-sizeof(struct sockaddr_ll); build(d,10000+(sent+k)%50000); h->tp_len=54; h->tp_status=TP_STATUS_SEND_REQUEST; fi++;}
   if(send(fd,0,0,0)<0){perror("send");break;} sent+=k;}
  double t=now()-t0; printf("mode %d txring: %d in %.3f s = %.0f pps\n",mode,sent,t,sent/t);
 }
 return 0;}
