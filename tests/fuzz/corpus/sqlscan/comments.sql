SELECT 1 -- $1 ;
/* outer /* inner $2 */ still ; */ ; SELECT $4