import mpmath as mp, numpy as np, sys
from scipy.special import erf
mp.mp.dps = 40
X = float(sys.argv[3]) if len(sys.argv)>3 else 4
N = 600
# Chebyshev nodes in x on (0, X]
X = mp.mpf(sys.argv[3]) if len(sys.argv)>3 else mp.mpf(4)
xs = [mp.mpf(X)/2*(1-mp.cos(mp.pi*(k+0.5)/N)) for k in range(N)]
def fit(nP, nQ, iters=12):
    w = [mp.mpf(1)]*N
    for it in range(iters):
        rows=[]; rhs=[]
        for x, wi in zip(xs, w):
            u = x*x; t = mp.erf(x)/x
            rows.append([x*wi*u**k for k in range(nP+1)] + [-x*wi*t*u**k for k in range(1,nQ+1)])
            rhs.append(x*wi*t)
        A = mp.matrix(rows); b = mp.matrix(rhs)
        c = mp.lu_solve(A.T*A, A.T*b)
        p=[c[k] for k in range(nP+1)]; q=[mp.mpf(1)]+[c[nP+1+k] for k in range(nQ)]
        w = [1/abs(mp.polyval(q[::-1], x*x)) for x in xs]
    return p,q
nP,nQ = int(sys.argv[1]), int(sys.argv[2])
p,q = fit(nP,nQ)
pf=[float(v) for v in p]; qf=[float(v) for v in q]
x=np.linspace(0,float(X),200001); u=x*x
a=x*np.polyval(pf[::-1],u)/np.polyval(qf[::-1],u)
print(nP,nQ,"double max err %.3e"%np.abs(a-erf(x)).max(), "minQ %.3e"%np.polyval(qf[::-1],u).min(), "at 4: %.17g"%(float(X)*np.polyval(pf[::-1],float(X)**2)/np.polyval(qf[::-1],float(X)**2)))
print("P", repr(pf)); print("Q", repr(qf))
