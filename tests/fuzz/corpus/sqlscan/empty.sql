;;  ; -- only comments
; /* x */ ;